"""One module per Lambda function, each exporting `handler`: envelope → command → use case → response."""
