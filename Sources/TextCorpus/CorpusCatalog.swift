import Foundation

/// The catalog of well-known public corpora that `charrnn corpus get` fetches (also in corpora/catalog.json,
/// which a test keeps identical to `CorpusCatalog.builtIn`).
public struct CorpusCatalog: Codable, Sendable, Equatable {
    /// One corpus.
    public struct Entry: Codable, Sendable, Equatable {
        /// The name `corpus get` takes.
        public var name: String
        public var description: String
        /// Where it is downloaded from.
        public var url: String
        /// The file name written into the output directory.
        public var file: String
        /// The file name looked up in a mirror directory.
        public var mirrorFile: String
        public var licence: String
        /// SHA-256 of the file as downloaded (lowercase hex), or nil when no published value is known.
        public var sha256: String?
        /// Size in bytes of the file as downloaded.
        public var size: Int64
        /// "zip" when the file is an archive to unpack before use, else nil.
        public var archive: String?
        /// Where the facts come from.
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case name, description, url, file, licence, sha256, size, archive, note
            case mirrorFile = "mirror_file"
        }
    }

    public var format: String
    public var version: Int
    public var corpora: [Entry]

    /// The entry called `name`. Throws `unknownCatalogEntry`.
    public func entry(named name: String) throws -> Entry {
        guard let entry = corpora.first(where: { $0.name == name }) else {
            throw CorpusError.unknownCatalogEntry(name: name, known: corpora.map(\.name))
        }
        return entry
    }

    /// Reads a catalog in the format of `corpora/catalog.json` (for private mirrors or extra corpora).
    /// Throws `missingPath`, or `unreadable` naming the file when it is not such a catalog.
    public static func load(from url: URL) throws -> CorpusCatalog {
        guard FileManager.default.fileExists(atPath: url.path) else { throw CorpusError.missingPath(url.path) }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CorpusError.unreadable(path: url.path, reason: "cannot open")
        }
        let catalog: CorpusCatalog
        do {
            catalog = try JSONDecoder().decode(CorpusCatalog.self, from: data)
        } catch {
            throw CorpusError.unreadable(path: url.path, reason: "not a charrnn corpus catalog (invalid JSON or missing fields)")
        }
        guard catalog.format == builtIn.format else {
            throw CorpusError.unreadable(path: url.path, reason: "not a charrnn corpus catalog (format '\(catalog.format)')")
        }
        return catalog
    }

    /// The catalog compiled into the library.
    public static let builtIn: CorpusCatalog = {
        // The JSON below is a constant checked by tests; a decoding failure is a programming error.
        try! JSONDecoder().decode(CorpusCatalog.self, from: Data(builtInJSON.utf8))
    }()

    static let builtInJSON = #"""
{
  "format": "charrnn-corpus-catalog",
  "version": 1,
  "corpora": [
    {
      "name": "tiny-shakespeare",
      "description": "About 40,000 lines from Shakespeare's plays (char-rnn's standard corpus), ASCII.",
      "url": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
      "file": "tinyshakespeare.txt",
      "mirror_file": "tinyshakespeare.txt",
      "licence": "Public domain text (the char-rnn repository is MIT)",
      "sha256": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
      "size": 1115394,
      "archive": null,
      "note": "sha256 and size computed from the shared mirror copy, identical to char-rnn's data/tinyshakespeare/input.txt"
    },
    {
      "name": "enwik8",
      "description": "The first 10^8 bytes of the English Wikipedia XML dump of 2006-03-03 (Hutter Prize); one file 'enwik8' inside a zip.",
      "url": "http://mattmahoney.net/dc/enwik8.zip",
      "file": "enwik8.zip",
      "mirror_file": "enwik8.zip",
      "licence": "Wikipedia text, CC BY-SA (GFDL at the time of the dump)",
      "sha256": "547994d9980ebed1288380d652999f38a14fe291a6247c157c3d33d4932534bc",
      "size": 36445475,
      "archive": "zip",
      "note": "published archive facts; the unzipped enwik8 is 100,000,000 bytes, sha256 2b49720ec4d78c3c9fabaee6e4179a5e997302b3a70029f30f2d582218c024a8"
    },
    {
      "name": "text8",
      "description": "enwik8-derived text: lowercase a-z and spaces only, 10^8 bytes; one file 'text8' inside a zip.",
      "url": "http://mattmahoney.net/dc/text8.zip",
      "file": "text8.zip",
      "mirror_file": "text8.zip",
      "licence": "Wikipedia text, CC BY-SA (GFDL at the time of the dump)",
      "sha256": null,
      "size": 31344016,
      "archive": "zip",
      "note": "sha256 unknown here (no published value found); only the well-known archive size is checked, and the computed sha256 is printed"
    },
    {
      "name": "wikitext-2-raw",
      "description": "WikiText-2 raw (v1): Good and Featured Wikipedia articles, untokenized; wiki.{train,valid,test}.raw inside a zip.",
      "url": "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-raw-v1.zip",
      "file": "wikitext-2-raw-v1.zip",
      "mirror_file": "wikitext-2-raw-v1.zip",
      "licence": "CC BY-SA 3.0 (Merity et al., Salesforce Research, 2016)",
      "sha256": "ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11",
      "size": 4721645,
      "archive": "zip",
      "note": "published archive facts (the same values appear in Hugging Face's dataset metadata)"
    }
  ]
}
"""#
}
