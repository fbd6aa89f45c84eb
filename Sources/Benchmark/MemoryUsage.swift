import Foundation

/// glibc's malloc_trim, which Swift's Glibc module does not import.
@_silgen_name("malloc_trim")
func mallocTrim(_ pad: Int) -> Int32

/// The process's peak resident memory (Linux's VmHWM), which `resetPeak` brings back to the current resident size so
/// that each model's peak is measured alone.
enum MemoryUsage {
    /// Returns freed memory to the system and restarts the peak from the current resident size.
    static func resetPeak() {
        _ = mallocTrim(0)
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// The peak resident size in MiB since the last reset (0 where /proc does not say).
    static var peakMegabytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
