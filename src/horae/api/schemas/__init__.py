"""Wire shapes of requests and responses, named as Cronofy names them."""
