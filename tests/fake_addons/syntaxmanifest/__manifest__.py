{"name": "Oops", "summary": __import__("os").getcwd()}
