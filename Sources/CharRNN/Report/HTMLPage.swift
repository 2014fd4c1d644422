/// The self-contained HTML pages charrnn writes (`charrnn report`, `charrnn inspect-cells`): one
/// document shell and one base style, so the pages look alike and carry no external resources.
enum HTMLPage {
    /// Page, headings, tables and charts, shared by every page.
    static let baseStyle = """
    body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1100px; }
    h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 30px; border-bottom: 1px solid #ccc; }
    figure { margin: 12px 0; }
    svg.chart { display: block; border: 1px solid #ddd; }
    table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
    th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
    th { background: #f3f3f3; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    p.missing { color: #888; font-style: italic; }
    """

    /// A whole document: `title` (escaped), the base style plus `style`, `body` as given, then
    /// `scripts` (inline, as given) before `</body>`.
    static func document(title: String, style: String = "", body: String, scripts: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(SVG.escape(title))</title>
        <style>
        \(baseStyle)
        \(style)
        </style>
        </head>
        <body>
        \(body)
        \(scripts)
        </body>
        </html>

        """
    }
}
