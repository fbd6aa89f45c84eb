enum DataModule {}
