# Inputs of the stack. terraform.tfvars.example shows a filled-in set.

variable "region" {
  description = "AWS region for every resource, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as eu-west-1 or us-east-2."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name; also the DynamoDB table prefix (SENDSONGS_DATABASE_URL=dynamodb://PREFIX)."
  type        = string
  default     = "sendsongs"

  validation {
    # Lambda, IAM role and SQS names must stay under 64 characters with their suffixes.
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-24 characters: lower-case letters, digits and '-', starting with a letter and not ending with '-'."
  }
}

variable "public_url" {
  description = "Externally visible base URL of the bot (SENDSONGS_PUBLIC_URL), https and without a trailing slash. Leave null to use the HTTP API's own execute-api URL."
  type        = string
  default     = null

  validation {
    condition     = var.public_url == null || can(regex("^https://[a-z0-9.-]+(:[0-9]+)?(/[^?#]*[^/?#])?$", var.public_url))
    error_message = "public_url must start with https:// and must not end with '/' (Spotify accepts only https redirect URIs)."
  }
}

variable "lambda_package" {
  description = "Path of the deployment package built by `make lambda-zip`, relative to this directory."
  type        = string
  default     = "../../dist/lambda.zip"
}

variable "messenger_enabled" {
  description = "Serve the Messenger channel: creates its three SSM parameters and hands their names to the functions."
  type        = bool
  default     = true
}

variable "telegram_enabled" {
  description = "Serve the Telegram channel: creates its two SSM parameters and hands their names to the functions."
  type        = bool
  default     = false
}

variable "lastfm_enabled" {
  description = "Offer Last.fm as a play-history source: creates the LASTFM_API_KEY parameter."
  type        = bool
  default     = false
}

variable "spotify_client_id" {
  description = "Spotify app client ID (SPOTIFY_CLIENT_ID; not a secret). The client secret goes to SSM."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.spotify_client_id))
    error_message = "spotify_client_id must be the 32 hexadecimal characters shown on the Spotify app's dashboard."
  }
}

variable "messenger_graph_url" {
  description = "Graph API base, version included (MESSENGER_GRAPH_URL)."
  type        = string
  default     = "https://graph.facebook.com/v26.0"

  validation {
    condition     = can(regex("^https://", var.messenger_graph_url))
    error_message = "messenger_graph_url must start with https://."
  }
}

variable "telegram_api_url" {
  description = "Telegram Bot API base (TELEGRAM_API_URL)."
  type        = string
  default     = "https://api.telegram.org"

  validation {
    condition     = can(regex("^https://", var.telegram_api_url))
    error_message = "telegram_api_url must start with https://."
  }
}

variable "spotify_accounts_url" {
  description = "Spotify OAuth server (SPOTIFY_ACCOUNTS_URL)."
  type        = string
  default     = "https://accounts.spotify.com"

  validation {
    condition     = can(regex("^https://", var.spotify_accounts_url))
    error_message = "spotify_accounts_url must start with https://."
  }
}

variable "spotify_api_url" {
  description = "Spotify Web API base (SPOTIFY_API_URL)."
  type        = string
  default     = "https://api.spotify.com/v1"

  validation {
    condition     = can(regex("^https://", var.spotify_api_url))
    error_message = "spotify_api_url must start with https://."
  }
}

variable "listenbrainz_api_url" {
  description = "ListenBrainz API base (LISTENBRAINZ_API_URL)."
  type        = string
  default     = "https://api.listenbrainz.org"

  validation {
    condition     = can(regex("^https://", var.listenbrainz_api_url))
    error_message = "listenbrainz_api_url must start with https://."
  }
}

variable "lastfm_api_url" {
  description = "Last.fm API endpoint (LASTFM_API_URL)."
  type        = string
  default     = "https://ws.audioscrobbler.com/2.0/"

  validation {
    condition     = can(regex("^https://", var.lastfm_api_url))
    error_message = "lastfm_api_url must start with https://."
  }
}

variable "schedule" {
  description = "Listen-check schedule in seconds: SENDSONGS_FAST_INTERVAL, SENDSONGS_FAST_WINDOW, SENDSONGS_SLOW_INTERVAL, SENDSONGS_EXPIRE_AFTER."
  type = object({
    fast_interval = number
    fast_window   = number
    slow_interval = number
    expire_after  = number
  })
  default = {
    fast_interval = 300
    fast_window   = 3600
    slow_interval = 3600
    expire_after  = 604800
  }

  validation {
    condition = alltrue([
      for seconds in values(var.schedule) : seconds > 0 && floor(seconds) == seconds
    ])
    error_message = "every schedule value must be a whole number of seconds greater than 0."
  }
}

variable "log_level" {
  description = "SENDSONGS_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps function and API access logs (they hold chat user ids, so keep only what you need)."
  type        = number
  default     = 30

  validation {
    condition = contains(
      [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
      var.log_retention_days,
    )
    error_message = "log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions per function. `check` and `inbox` call Spotify, so their cap protects the app's rate limit; `sweep` at 1 never overlaps itself. The account must keep 100 unreserved executions beyond their sum."
  type = object({
    http  = number
    inbox = number
    sweep = number
    check = number
  })
  default = {
    http  = 20
    inbox = 5
    sweep = 1
    check = 4
  }

  validation {
    condition     = alltrue([for n in values(var.reserved_concurrency) : n >= 1 && floor(n) == n])
    error_message = "every reserved_concurrency value must be a whole number of at least 1."
  }

  validation {
    # An SQS event source's maximum concurrency cannot be below 2.
    condition     = var.reserved_concurrency.inbox >= 2 && var.reserved_concurrency.check >= 2
    error_message = "reserved_concurrency.inbox and reserved_concurrency.check must be at least 2."
  }
}

variable "api_throttle" {
  description = "Default throttling of the HTTP API stage: steady requests per second and burst."
  type = object({
    rate_limit  = number
    burst_limit = number
  })
  default = {
    rate_limit  = 50
    burst_limit = 100
  }

  validation {
    condition     = var.api_throttle.rate_limit > 0 && var.api_throttle.burst_limit > 0
    error_message = "api_throttle.rate_limit and api_throttle.burst_limit must be greater than 0."
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (AWS sends a confirmation mail first). Null: no subscription."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "deletion_protection" {
  description = "Protect the DynamoDB tables from deletion (turn off only to tear the stack down)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
