import Foundation

/// Learning curves of one or more runs as an SVG picture: training loss, training accuracy and learning rate
/// against the global step, and validation top-1 per epoch, one colour per run named in a legend.
public struct LearningCurvePlot {
    public let runs: [RunMetrics]

    public init(runs: [RunMetrics]) {
        self.runs = runs
    }

    /// One panel: a title, axis names and a series per run.
    struct Panel {
        let title: String, xLabel: String, yLabel: String
        let series: [[(x: Double, y: Double)]]
        var markers = false
        /// Whole-number x values (epochs): no ticks between them.
        var wholeX = false
        /// A logarithmic y axis, for the loss, whose late changes are small in absolute terms.
        var logarithmicY = false
    }

    // Tableau's ten colours, as matplotlib cycles them.
    static let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                          "#bcbd22", "#17becf"]
    static let panelWidth = 560.0, panelHeight = 340.0
    static let margin = (left: 72.0, right: 20.0, top: 36.0, bottom: 48.0)

    /// The picture as SVG text.
    public func svg() -> String {
        let curve = { (field: String, scale: Double) in
            runs.map { ($0.training[field] ?? []).map { (x: $0.step, y: scale * $0.value) } }
        }
        let panels = [
            Panel(title: "training loss", xLabel: "step", yLabel: "loss", series: curve("loss", 1), logarithmicY: true),
            Panel(title: "training accuracy", xLabel: "step", yLabel: "accuracy (%)", series: curve("accuracy", 100)),
            Panel(title: "learning rate", xLabel: "step", yLabel: "lr", series: curve("lr", 1)),
            Panel(title: "validation top-1", xLabel: "epoch", yLabel: "top-1 (%)",
                  series: runs.map { ($0.validation["top1"] ?? []).map { (x: $0.epoch, y: 100 * $0.value) } }, markers: true,
                  wholeX: true),
        ]
        let legendHeight = 28.0
        let width = 2 * Self.panelWidth, height = 2 * Self.panelHeight + legendHeight
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>

            """
        var x = 16.0
        for (index, run) in runs.enumerated() {
            let colour = Self.colours[index % Self.colours.count]
            svg += "<line x1=\"\(x)\" y1=\"16\" x2=\"\(x + 24)\" y2=\"16\" stroke=\"\(colour)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(x + 30)\" y=\"20\">\(Self.escaped(run.name))</text>\n"
            x += 44 + 7.5 * Double(run.name.count)
        }
        for (index, panel) in panels.enumerated() {
            svg += draw(panel, left: Double(index % 2) * Self.panelWidth, top: legendHeight + Double(index / 2) * Self.panelHeight)
        }
        return svg + "</svg>\n"
    }

    private func draw(_ panel: Panel, left: Double, top: Double) -> String {
        let m = Self.margin
        let (x0, y0) = (left + m.left, top + m.top)
        let (w, h) = (Self.panelWidth - m.left - m.right, Self.panelHeight - m.top - m.bottom)
        // A logarithmic axis plots log10 of the values; non-positive ones cannot be drawn there.
        let series = panel.logarithmicY ? panel.series.map { $0.filter { $0.y > 0 }.map { (x: $0.x, y: log10($0.y)) } } : panel.series
        let points = series.flatMap { $0 }
        var out = "<text x=\"\(x0 + w / 2)\" y=\"\(top + 22)\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(panel.title)</text>\n"
        guard !points.isEmpty else {
            out += "<rect x=\"\(x0)\" y=\"\(y0)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#444\"/>"
            return out + "<text x=\"\(x0 + w / 2)\" y=\"\(y0 + h / 2)\" text-anchor=\"middle\" fill=\"#888\">no records</text>\n"
        }
        let xTicks = Self.ticks(points.map(\.x).min()!, points.map(\.x).max()!, atLeast: panel.wholeX ? 1 : 0)
        let yTicks = panel.logarithmicY ? Self.decades(points.map(\.y).min()!, points.map(\.y).max()!)
            : Self.ticks(points.map(\.y).min()!, points.map(\.y).max()!)
        let (xLow, xHigh) = (xTicks.first!, xTicks.last!), (yLow, yHigh) = (yTicks.first!, yTicks.last!)
        let px = { (x: Double) in x0 + w * (x - xLow) / (xHigh - xLow) }
        let py = { (y: Double) in y0 + h - h * (y - yLow) / (yHigh - yLow) }
        for tick in xTicks {
            out += "<line x1=\"\(px(tick))\" y1=\"\(y0)\" x2=\"\(px(tick))\" y2=\"\(y0 + h)\" stroke=\"#e4e4e4\"/>"
            out += "<text x=\"\(px(tick))\" y=\"\(y0 + h + 16)\" text-anchor=\"middle\">\(Self.label(tick))</text>\n"
        }
        for tick in yTicks {
            out += "<line x1=\"\(x0)\" y1=\"\(py(tick))\" x2=\"\(x0 + w)\" y2=\"\(py(tick))\" stroke=\"#e4e4e4\"/>"
            out += "<text x=\"\(x0 - 6)\" y=\"\(py(tick) + 4)\" text-anchor=\"end\">\(Self.label(panel.logarithmicY ? pow(10, tick) : tick))</text>\n"
        }
        out += "<rect x=\"\(x0)\" y=\"\(y0)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#444\"/>\n"
        out += "<text x=\"\(x0 + w / 2)\" y=\"\(y0 + h + 36)\" text-anchor=\"middle\">\(panel.xLabel)</text>\n"
        out += "<text transform=\"translate(\(left + 16) \(y0 + h / 2)) rotate(-90)\" text-anchor=\"middle\">\(panel.yLabel)</text>\n"
        for (index, series) in series.enumerated() where !series.isEmpty {
            let colour = Self.colours[index % Self.colours.count]
            let path = series.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\"/>\n"
            if panel.markers || series.count == 1 {
                for point in series {
                    out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%@\"/>", px(point.x), py(point.y), colour)
                }
                out += "\n"
            }
        }
        return out
    }

    /// Round tick values (1, 2 or 5 times a power of ten apart, and at least `atLeast`) covering low...high,
    /// about five of them.
    static func ticks(_ low: Double, _ high: Double, atLeast minimumStep: Double = 0) -> [Double] {
        let (low, high) = high > low ? (low, high) : (low - max(abs(low), 1) * 0.05, high + max(abs(high), 1) * 0.05)
        let rough = max((high - low) / 5, minimumStep)
        let power = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough }!
        let first = floor(low / step) * step, last = ceil(high / step) * step
        return stride(from: first, through: last + step / 2, by: step).map { ($0 / step).rounded() * step }
    }

    /// Ticks of a logarithmic axis, as log10 values: whole decades, or with 2 and 5 between them when the values
    /// span less than two decades.
    static func decades(_ low: Double, _ high: Double) -> [Double] {
        let (first, last) = (floor(low), max(ceil(high), floor(low) + 1))
        let steps = last - first < 2 ? [1.0, 2, 5] : [1.0]
        var ticks: [Double] = []
        for decade in stride(from: first, to: last, by: 1) { ticks += steps.map { decade + log10($0) } }
        // Trim to the data, keeping one tick beyond each end.
        let below = ticks.lastIndex { $0 <= low } ?? 0, above = ticks.firstIndex { $0 >= high } ?? ticks.count
        return Array(ticks[below..<min(above + 1, ticks.count)]) + (above >= ticks.count ? [last] : [])
    }

    /// A tick's text: plain decimals for everyday magnitudes, scientific notation for tiny or huge ones.
    static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) < 1e-3 || abs(value) >= 1e6 { return String(format: "%.0e", value) }
        return String(format: "%g", value)
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
