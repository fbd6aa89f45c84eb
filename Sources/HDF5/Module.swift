enum HDF5Module {}
