raise AssertionError("must never be imported")
