print("dtrain")
