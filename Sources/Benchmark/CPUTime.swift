import Foundation

/// The CPU time the process has used, all threads together.
enum CPUTime {
    /// User and system seconds since the process started (getrusage).
    static var processSeconds: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
