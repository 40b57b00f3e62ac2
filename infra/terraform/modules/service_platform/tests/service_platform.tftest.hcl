mock_provider "aws" {}

override_data {
  target = data.terraform_remote_state.platform
  values = { outputs = { bus_name = "payments" } }
}

run "tokens_only_when_enabled" {
  command = plan

  variables {
    platform_state_path                  = "missing.tfstate"
    dynatrace_enabled                    = false
    dynatrace_layer_arn                  = "arn"
    dynatrace_tenant                     = ""
    dynatrace_cluster_id                 = ""
    dynatrace_connection_base_url        = ""
    dynatrace_connection_token_parameter = "/p/c"
  }

  assert {
    condition     = length(data.aws_ssm_parameter.connection_token) == 0 && output.platform.bus_name == "payments"
    error_message = "no SSM read when Dynatrace is off; platform outputs passed through"
  }
}
