print("cartload")
