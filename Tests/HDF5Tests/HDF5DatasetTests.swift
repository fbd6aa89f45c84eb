import Foundation
import HDF5
import Testing

/// Datasets: every element type round trips, row ranges read as hyperslabs, chunking and Fletcher-32 are kept.
@Suite struct HDF5DatasetTests {
    func roundTrip<T: HDF5Scalar & Equatable>(_ values: [T], shape: [Int], in folder: TemporaryDirectory) throws {
        let path = folder.file("\(T.elementType).h5")
        do {
            let file = try HDF5File.create(path)
            let dataset = try file.createDataset("values", type: T.elementType, shape: shape)
            try dataset.writeAll(values)
        }
        let file = try HDF5File.open(path)
        let dataset = try file.openDataset("values")
        #expect(dataset.shape == shape)
        #expect(dataset.elementType == T.elementType)
        #expect(dataset.chunkShape == nil)
        #expect(try dataset.readAll(as: T.self) == values)
    }

    @Test func aFileIsReopenedWhileItsWriterIsOpenWithoutTouchingTheEnvironment() throws {
        // File locks would refuse the second open; they are turned off through a property, not HDF5_USE_FILE_LOCKING,
        // since writing the environment while other threads read it is undefined.
        let environmentBefore = ProcessInfo.processInfo.environment["HDF5_USE_FILE_LOCKING"]
        let folder = TemporaryDirectory()
        let path = folder.file("open-twice.h5")
        let writer = try HDF5File.create(path)
        try writer.createDataset("values", type: .float32, shape: [2]).writeAll([Float(1), 2])
        try writer.flush()
        #expect(try HDF5File.open(path).openDataset("values").readAll(as: Float.self) == [1, 2])
        try writer.close()
        #expect(ProcessInfo.processInfo.environment["HDF5_USE_FILE_LOCKING"] == environmentBefore)
    }

    @Test func everyElementTypeRoundTrips() throws {
        let folder = TemporaryDirectory()
        try roundTrip((0..<24).map { UInt8($0 * 10) }, shape: [2, 3, 4], in: folder)
        try roundTrip((0..<6).map { Int32($0) - 3 + Int32.max / 2 }, shape: [3, 2], in: folder)
        try roundTrip([Int64.min, -1, 0, 1, Int64.max], shape: [5], in: folder)
        try roundTrip([Float(-1.5), 0, .pi, 1e-30, .greatestFiniteMagnitude, 7, 8, 9], shape: [2, 2, 2], in: folder)
        try roundTrip([Double.pi, -2, 1e300, 0.1], shape: [4], in: folder)
    }

    @Test func rowRangesReadAndWriteAsHyperslabs() throws {
        let folder = TemporaryDirectory()
        let file = try HDF5File.create(folder.file("rows.h5"))
        let dataset = try file.createDataset("grid", type: .float32, shape: [10, 2, 3], chunk: [4, 2, 3])
        #expect(dataset.chunkShape == [4, 2, 3])
        #expect(dataset.rowCount == 6)
        let all = (0..<60).map { Float($0) }
        // Written in three uneven pieces that straddle chunk boundaries.
        for rows in [0..<3, 3..<9, 9..<10] {
            try all[(rows.lowerBound * 6)..<(rows.upperBound * 6)].withUnsafeBufferPointer {
                try dataset.write(rows: rows, from: $0)
            }
        }
        var middle = [Float](repeating: -1, count: 5 * 6)
        try middle.withUnsafeMutableBufferPointer { try dataset.read(rows: 2..<7, into: $0) }
        #expect(middle == Array(all[12..<42]))
        var last = [Float](repeating: -1, count: 6)
        try last.withUnsafeMutableBufferPointer { try dataset.read(rows: 9..<10, into: $0) }
        #expect(last == Array(all[54..<60]))
        #expect(try dataset.readAll(as: Float.self) == all)
    }

    @Test func chunkShapeIsReportedAfterReopening() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("chunked.h5")
        do {
            let file = try HDF5File.create(path)
            _ = try file.createDataset("images", type: .uint8, shape: [1000, 1, 28, 28], chunk: [256, 1, 28, 28])
            _ = try file.createDataset("nested/deeper/values", type: .int64, shape: [3])
        }
        let file = try HDF5File.open(path)
        #expect(try file.openDataset("images").chunkShape == [256, 1, 28, 28])
        #expect(try file.openDataset("/nested/deeper/values").shape == [3])
        #expect(file.hasObject("nested/deeper"))
        #expect(!file.hasObject("nested/missing/values"))
    }

    @Test func fletcher32DatasetRoundTripsAndDetectsDamage() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("checked.h5")
        let values = (0..<4096).map { Double($0) * 0.5 }
        do {
            let file = try HDF5File.create(path)
            let dataset = try file.createDataset("weights", type: .float64, shape: [4096], chunk: [4096],
                                                 fletcher32: true)
            try dataset.writeAll(values)
            try file.flush()
        }
        #expect(try HDF5File.open(path).openDataset("weights").readAll(as: Double.self) == values)

        // Flip one byte of the stored values: the checksum must catch it on read.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let needle = withUnsafeBytes(of: Double(1000).bitPattern.littleEndian) { Data($0) }
        let position = try #require(bytes.range(of: needle)).lowerBound
        bytes[position] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: HDF5Error.self) {
            _ = try HDF5File.open(path).openDataset("weights").readAll(as: Double.self)
        }
        #expect(error?.description.contains("checked.h5: /weights") == true)
    }

    @Test func groupsNestAndHoldDatasets() throws {
        let folder = TemporaryDirectory()
        let file = try HDF5File.create(folder.file("groups.h5"))
        let group = try file.createGroup("model/layer1")
        #expect(group.name == "/model/layer1")
        let dataset = try group.createDataset("weight", type: .float32, shape: [2, 2])
        #expect(dataset.name == "/model/layer1/weight")
        #expect(file.hasObject("/model/layer1/weight"))
        #expect(try file.openGroup("model").openDataset("layer1/weight").shape == [2, 2])
    }
}
