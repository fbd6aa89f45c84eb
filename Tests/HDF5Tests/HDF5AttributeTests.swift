import CHDF5
import Foundation
import HDF5
import Testing

/// Attributes of each kind round trip on files, groups and datasets; missing or mistyped ones throw by name.
@Suite struct HDF5AttributeTests {
    @Test func everyKindRoundTripsOnFileGroupAndDataset() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("attributes.h5")
        do {
            let file = try HDF5File.create(path)
            let group = try file.createGroup("group")
            let dataset = try file.createDataset("dataset", type: .uint8, shape: [1])
            for attributes in [try file.attributes, group.attributes, dataset.attributes] {
                try attributes.set("text", "grüße, 1")
                try attributes.set("names", ["T-shirt/top", "Trouser", ""])
                try attributes.set("count", 60_000)
                try attributes.set("rate", 0.125)
                try attributes.set("mean", [0.1307, 0.5, -1e-9])
                try attributes.set("shape", [1, 28, 28])
                try attributes.set("empty", [Double]())
                try attributes.set("count", 42)
            }
        }
        let file = try HDF5File.open(path)
        for attributes in [try file.attributes, try file.openGroup("group").attributes,
                           try file.openDataset("dataset").attributes] {
            #expect(try attributes.read("text", as: String.self) == "grüße, 1")
            #expect(try attributes.read("names", as: [String].self) == ["T-shirt/top", "Trouser", ""])
            #expect(try attributes.read("count", as: Int.self) == 42)
            #expect(try attributes.read("rate", as: Double.self) == 0.125)
            #expect(try attributes.read("mean", as: [Double].self) == [0.1307, 0.5, -1e-9])
            #expect(try attributes.read("shape", as: [Int].self) == [1, 28, 28])
            #expect(try attributes.read("empty", as: [Double].self) == [])
            #expect(attributes.contains("rate"))
            #expect(!attributes.contains("absent"))
        }
    }

    @Test func missingAttributeNamesFileObjectAndAttribute() throws {
        let folder = TemporaryDirectory()
        let file = try HDF5File.create(folder.file("bare.h5"))
        let dataset = try file.createDataset("images", type: .uint8, shape: [2])
        let error = #expect(throws: HDF5Error.self) { try dataset.attributes.read("mean", as: [Double].self) }
        #expect(error?.description.hasSuffix("bare.h5: attribute mean of /images does not exist") == true)
    }

    @Test func attributeOfAnotherKindThrows() throws {
        let folder = TemporaryDirectory()
        let file = try HDF5File.create(folder.file("kinds.h5"))
        let attributes = try file.attributes
        try attributes.set("version", 1)
        try attributes.set("classes", ["a", "b"])
        try attributes.set("mean", [0.5])
        let asText = #expect(throws: HDF5Error.self) { try attributes.read("version", as: String.self) }
        #expect(asText?.description.hasSuffix("kinds.h5: attribute version of / is int64, expected a string") == true)
        let asFloat = #expect(throws: HDF5Error.self) { try attributes.read("version", as: Double.self) }
        #expect(asFloat?.description.contains("is int64, expected a float") == true)
        let asNumber = #expect(throws: HDF5Error.self) { try attributes.read("classes", as: [Int].self) }
        #expect(asNumber?.description.contains("attribute classes of / is a variable-length string") == true)
        let asOne = #expect(throws: HDF5Error.self) { try attributes.read("classes", as: String.self) }
        #expect(asOne?.description.contains("is an array of 2 values, expected a string") == true)
        #expect(try attributes.read("mean", as: Double.self) == 0.5)
    }

    @Test func fixedLengthStringsAsNumPyWritesThemAreRead() throws {
        // h5py stores NumPy "S" arrays as NUL-padded fixed-length strings; write such an attribute with the C API.
        let folder = TemporaryDirectory()
        let path = folder.file("fixed.h5")
        // Closed before the C API opens it: HDF5 refuses a second open with other file-access (locking) properties.
        try HDF5File.create(path).close()
        try writeFixedLengthStrings(file: path, name: "classes", ["zero", "one", "two"], padding: H5T_STR_NULLPAD)
        try writeFixedLengthStrings(file: path, name: "source", ["idx files"], padding: H5T_STR_SPACEPAD)
        let attributes = try HDF5File.open(path).attributes
        #expect(try attributes.read("classes", as: [String].self) == ["zero", "one", "two"])
        #expect(try attributes.read("source", as: String.self) == "idx files")
    }

    /// Adds a fixed-length string array attribute of width 6 to the root group of `file`.
    private func writeFixedLengthStrings(file: String, name: String, _ values: [String], padding: H5T_str_t) throws {
        let width = max(6, values.map { $0.utf8.count }.max()!)
        let fileID = H5Fopen(file, dtrain_h5f_acc_rdwr(), dtrain_h5p_default())
        defer { H5Fclose(fileID) }
        let type = H5Tcopy(dtrain_h5t_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, width)
        H5Tset_strpad(type, padding)
        let space = H5Screate_simple(1, [hsize_t(values.count)], nil)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(fileID, name, type, space, dtrain_h5p_default(), dtrain_h5p_default())
        defer { H5Aclose(attribute) }
        let pad: UInt8 = padding == H5T_STR_SPACEPAD ? 0x20 : 0
        let bytes = values.flatMap { Array($0.utf8) + Array(repeating: pad, count: width - $0.utf8.count) }
        #expect(H5Awrite(attribute, type, bytes) >= 0)
    }
}
