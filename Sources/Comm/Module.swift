enum CommModule {}
