# A table's capacity mode (issue 32: carry a peak day), typed and validated here only: the table modules and the
# service roots pass it through. On demand by default — nothing changes for a table that does not ask. PROVISIONED starts the table (and each index) at the minimums and lets target tracking move
# it between the bounds; DynamoDB bills provisioned capacity by the hour whether used or not, on-demand per
# request (https://aws.amazon.com/dynamodb/pricing/provisioned/, .../on-demand/), so a steady high rate is
# cheaper provisioned and a bursty one on demand (docs/capacity.md: the cost per level and the caveats).
variable "capacity" {
  description = "billing_mode PAY_PER_REQUEST (default) or PROVISIONED with read_min/read_max, write_min/write_max (capacity units) and target_utilization (percent, 20–90)."
  type = object({
    billing_mode       = optional(string, "PAY_PER_REQUEST")
    read_min           = optional(number)
    read_max           = optional(number)
    write_min          = optional(number)
    write_max          = optional(number)
    target_utilization = optional(number, 70)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.capacity.billing_mode)
    error_message = "capacity.billing_mode: PAY_PER_REQUEST or PROVISIONED."
  }
  validation {
    condition = var.capacity.billing_mode != "PROVISIONED" || alltrue([
      for v in [var.capacity.read_min, var.capacity.read_max, var.capacity.write_min, var.capacity.write_max] :
      v != null && try(v >= 1 && floor(v) == v, false)
    ])
    # DynamoDB's minimum for a provisioned table or index is 1 read and 1 write capacity unit (Service quotas).
    error_message = "capacity: PROVISIONED needs read_min, read_max, write_min and write_max, each a whole number of capacity units >= 1."
  }
  validation {
    condition = var.capacity.billing_mode != "PROVISIONED" || try(
      var.capacity.read_min <= var.capacity.read_max && var.capacity.write_min <= var.capacity.write_max, false
    )
    error_message = "capacity: read_min must be <= read_max and write_min <= write_max."
  }
  validation {
    # "You can set auto scaling target utilization values between 20 and 90 percent" (DynamoDB auto scaling docs).
    condition     = var.capacity.target_utilization >= 20 && var.capacity.target_utilization <= 90
    error_message = "capacity.target_utilization: a percentage from 20 to 90 (what DynamoDB auto scaling accepts)."
  }
}

locals {
  provisioned = var.capacity.billing_mode == "PROVISIONED"
}

output "billing_mode" {
  value = var.capacity.billing_mode
}

output "read_capacity" {
  description = "The table's (and each index's) starting read capacity: read_min when provisioned, null on demand."
  value       = local.provisioned ? var.capacity.read_min : null
}

output "write_capacity" {
  description = "The table's (and each index's) starting write capacity: write_min when provisioned, null on demand."
  value       = local.provisioned ? var.capacity.write_min : null
}
