"""IAM policy evaluation for tests: is every AWS call our functions make allowed by the rendered policies?"""
