# The deployed settings fit; a batch too large for them is refused at plan, naming its figures.

variables {
  batch_size                  = 10
  charge_concurrency          = 10
  psp_connect_timeout_s       = 1
  psp_read_timeout_s          = 5
  psp_max_network_retries     = 2
  function_timeout_s          = 30
  stripe_request_budget_per_s = 20
  stripe_environments         = 10
}

run "the_deployed_settings_fit_the_timeout" {
  command = plan

  assert {
    # One wave: (1 s budget wait + 1 + 5) s × 3 attempts + 0.5 + 1 s backoff + 5 s store.
    condition     = output.worst_batch_s == 27.5
    error_message = "the worst case of a batch of 10 charged 10 at once is 27.5 s"
  }
  assert {
    condition     = output.requests_per_s_per_environment == 2
    error_message = "20 requests/s shared by 10 environments: 2 each"
  }
}

run "a_batch_charged_one_after_another_is_refused" {
  command = plan
  variables {
    charge_concurrency = 1
  }
  expect_failures = [terraform_data.worst_batch_fits_the_timeout]
}

run "a_larger_batch_is_refused_at_plan" {
  command = plan
  variables {
    batch_size = 11 # two waves of 10 at once: 55 s
  }
  expect_failures = [terraform_data.worst_batch_fits_the_timeout]
}

run "more_retries_are_refused" {
  command = plan
  variables {
    psp_max_network_retries = 4 # (7 s × 5 attempts) + 0.5 + 1 + 2 + 4 s backoff alone exceed 30 s
  }
  expect_failures = [terraform_data.worst_batch_fits_the_timeout]
}

run "a_longer_timeout_carries_two_waves" {
  command = plan
  variables {
    batch_size         = 20
    function_timeout_s = 60
  }
  assert {
    condition     = output.worst_batch_s == 55
    error_message = "two waves of 27.5 s"
  }
}

run "a_concurrency_below_one_is_refused" {
  command = plan
  variables {
    charge_concurrency = 0
  }
  expect_failures = [var.charge_concurrency]
}

run "a_budget_at_stripes_limit_is_refused" {
  command = plan
  variables {
    stripe_request_budget_per_s = 25 # the default per-endpoint limit of POST /v1/payment_intents
  }
  expect_failures = [terraform_data.budget_under_stripes_limit]
}

run "a_raised_limit_carries_a_raised_budget" {
  command = plan
  variables {
    stripe_request_budget_per_s = 150
    stripe_limit_per_s          = 200
    stripe_environments         = 60
  }
  assert {
    condition     = output.requests_per_s_per_environment == 2.5
    error_message = "150 requests/s shared by 60 environments"
  }
}
