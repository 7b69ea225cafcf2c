print("goedge")
