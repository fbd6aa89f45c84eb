print("comm-check")
