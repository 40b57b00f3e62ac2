mock_provider "aws" {
  source = "../../testing/aws" # the data sources' values, shared by the modules' tests
}

variables {
  functions = {
    "svc" = {
      handler    = "svc.entrypoints.consume.handler"
      statements = [{ sid = "OwnTable", actions = ["dynamodb:GetItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/t"] }]
    }
    "svc-api" = { handler = "svc.entrypoints.api.handler", statements = [] }
  }
  environment = { EVENT_STORE_TABLE = "svc-events" }
  zip_path    = "tests/handler.zip"
  platform = {
    kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/k"
    firehose_arn              = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs"
    logs_to_firehose_role_arn = "arn:aws:iam::123456789012:role/logs"
  }
  dynatrace = {
    enabled               = false
    layer_arn             = ""
    tenant                = ""
    cluster_id            = ""
    connection_base_url   = ""
    connection_auth_token = ""
  }
}

run "every_function_wired_to_the_platform_snapstart_for_the_api" {
  command = plan

  assert {
    condition     = toset(keys(output.functions)) == toset(["svc", "svc-api"]) && output.functions["svc-api"].function_name == "svc-api"
    error_message = "one lambda_service per function, named after it"
  }
  assert {
    condition     = output.functions["svc-api"].snap_start && !output.functions["svc"].snap_start
    error_message = "SnapStart for the API function only"
  }
}
