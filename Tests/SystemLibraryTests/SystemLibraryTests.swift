import CBLAS
import CHDF5
import CMPI
import Testing

/// The C shims compile and the three system libraries link and answer.
@Suite struct SystemLibraryTests {
    @Test func hdf5ReportsItsVersion() {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        #expect(H5get_libversion(&major, &minor, &release) >= 0)
        #expect(major == 1 && minor >= 10)
        #expect(dtrain_h5t_native_float() > 0)
    }

    @Test func mpiReportsItsStandardVersion() {
        var version: Int32 = 0, subversion: Int32 = 0
        #expect(MPI_Get_version(&version, &subversion) == 0)
        #expect(version >= 3)
    }

    @Test func openBLASComputesADotProduct() {
        let x: [Float] = [1, 2, 3], y: [Float] = [4, 5, 6]
        #expect(cblas_sdot(3, x, 1, y, 1) == 32)
    }
}
