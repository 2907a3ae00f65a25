"""Server-rendered pages: the OAuth authorize flow now; dashboard, profile and booking pages later."""
