# The AWS data sources our modules read, with realistic values: one set for every module's terraform test
# (mock_provider "aws" { source = "../../testing/aws" }).
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}

mock_data "aws_region" {
  defaults = { name = "eu-west-1" }
}

mock_data "aws_partition" {
  defaults = { partition = "aws" }
}

mock_data "aws_iam_policy_document" {
  defaults = { json = "{}" }
}
