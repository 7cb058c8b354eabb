# The names the Python code depends on, in one place. contract.json holds the same names for
# the Python side; tests/deploy/test_terraform.py keeps the two equal.

locals {
  prefix = var.name_prefix

  # DynamoDB: one table per role, string keys `pk` and `sk`. `attributes` lists every key
  # attribute of the table and its indexes; `ttl` is the attribute DynamoDB deletes expired
  # items by (garbage collection only, never a timer).
  tables = {
    people = {
      name       = "${var.name_prefix}-people"
      attributes = { pk = "S", sk = "S", name_key = "S", renew_source = "S", consented_at = "N", sealed = "S" }
      indexes = {
        by_name  = { hash_key = "name_key", range_key = "pk" }
        renewals = { hash_key = "renew_source", range_key = "consented_at" }
        sealed   = { hash_key = "sealed", range_key = "pk" } # what a key rotation rewrites
      }
      ttl        = null
    }
    shares = {
      name       = "${var.name_prefix}-shares"
      attributes = { pk = "S", sk = "S", sender_id = "S", recipient_id = "S", sent_key = "S", group_send = "S" }
      indexes = {
        by_sender    = { hash_key = "sender_id", range_key = "sent_key" }
        by_recipient = { hash_key = "recipient_id", range_key = "sent_key" } # erasure
        by_send      = { hash_key = "group_send", range_key = "sent_key" }
      }
      ttl = "expires_at"
    }
    groups = {
      name       = "${var.name_prefix}-groups"
      attributes = { pk = "S", sk = "S" }
      indexes    = {}
      ttl        = null
    }
    checks = {
      name       = "${var.name_prefix}-checks"
      attributes = { pk = "S", sk = "S", shard = "S", next_check_at = "N" }
      indexes    = { due = { hash_key = "shard", range_key = "next_check_at" } }
      ttl        = null
    }
    inbox = {
      name       = "${var.name_prefix}-inbox"
      attributes = { pk = "S", sk = "S", queue = "S", due = "N" }
      indexes    = { queue = { hash_key = "queue", range_key = "due" } }
      ttl        = "expires_at"
    }
    outbox = {
      name       = "${var.name_prefix}-outbox"
      attributes = { pk = "S", sk = "S", queue = "S", due = "N", address = "S", on_behalf_of = "S" }
      indexes = {
        queue      = { hash_key = "queue", range_key = "due" }
        by_address = { hash_key = "address", range_key = "pk" }      # erasure
        by_behalf  = { hash_key = "on_behalf_of", range_key = "pk" } # erasure
      }
      ttl = "expires_at"
    }
    secrets = {
      name       = "${var.name_prefix}-secrets"
      attributes = { pk = "S", sk = "S", owner = "S", sealed = "S" }
      indexes = {
        by_owner = { hash_key = "owner", range_key = "pk" } # erasure
        sealed   = { hash_key = "sealed", range_key = "pk" } # what a key rotation rewrites
      }
      ttl = "expires_at"
    }
    pauses = {
      name       = "${var.name_prefix}-pauses"
      attributes = { pk = "S", sk = "S" }
      indexes    = {}
      ttl        = null
    }
    # per-person attempt counters: TTL drops a counter whose attempts all left the window
    limits = {
      name       = "${var.name_prefix}-limits"
      attributes = { pk = "S", sk = "S" }
      indexes    = {}
      ttl        = "expires_at"
    }
    # erasure receipts (a code and a time, no personal data): kept
    erasures = {
      name       = "${var.name_prefix}-erasures"
      attributes = { pk = "S", sk = "S" }
      indexes    = {}
      ttl        = null
    }
  }

  # SQS: incoming chat events (FIFO, grouped by sender) and recipient checks (standard).
  queues = {
    inbox = {
      name                = "${var.name_prefix}-inbox.fifo"
      dlq_name            = "${var.name_prefix}-inbox-dlq.fifo"
      fifo                = true
      url_variable        = "SENDSONGS_INBOX_QUEUE_URL"
      visibility_timeout  = 180 # six times the inbox function's timeout, as Lambda advises
      max_receive_count   = 5
      dlq_retention_hours = 336
    }
    check = {
      name                = "${var.name_prefix}-check"
      dlq_name            = "${var.name_prefix}-check-dlq"
      fifo                = false
      url_variable        = "SENDSONGS_CHECK_QUEUE_URL"
      visibility_timeout  = 360
      max_receive_count   = 5
      dlq_retention_hours = 336
    }
  }

  # Secrets: SecureString parameters; each function gets the parameter NAME in
  # <VAR>_SSM_PARAMETER and reads the value once per cold start.
  secret_variables = concat(
    ["SENDSONGS_SECRET_KEY", "SPOTIFY_CLIENT_SECRET"],
    var.messenger_enabled ? ["MESSENGER_VERIFY_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_PAGE_ACCESS_TOKEN"] : [],
    var.telegram_enabled ? ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"] : [],
    var.lastfm_enabled ? ["LASTFM_API_KEY"] : [],
  )
  ssm_parameter_suffix = "_SSM_PARAMETER"
  ssm_parameter_names  = { for name in local.secret_variables : name => "/${var.name_prefix}/${name}" }

  public_url = coalesce(var.public_url, aws_apigatewayv2_api.http.api_endpoint)

  # Plain settings (DESIGN.md §2) shared by every function; no secret value is among them.
  plain_environment = {
    SENDSONGS_DATABASE_URL    = "dynamodb://${var.name_prefix}"
    SENDSONGS_PUBLIC_URL      = local.public_url
    SENDSONGS_FAST_INTERVAL   = tostring(var.schedule.fast_interval)
    SENDSONGS_FAST_WINDOW     = tostring(var.schedule.fast_window)
    SENDSONGS_SLOW_INTERVAL   = tostring(var.schedule.slow_interval)
    SENDSONGS_EXPIRE_AFTER    = tostring(var.schedule.expire_after)
    SENDSONGS_LOG_LEVEL       = var.log_level
    SENDSONGS_INBOX_QUEUE_URL = aws_sqs_queue.main["inbox"].url
    SENDSONGS_CHECK_QUEUE_URL = aws_sqs_queue.main["check"].url
    MESSENGER_GRAPH_URL       = var.messenger_graph_url
    TELEGRAM_API_URL          = var.telegram_api_url
    SPOTIFY_CLIENT_ID         = var.spotify_client_id
    SPOTIFY_ACCOUNTS_URL      = var.spotify_accounts_url
    SPOTIFY_API_URL           = var.spotify_api_url
    LISTENBRAINZ_API_URL      = var.listenbrainz_api_url
    LASTFM_API_URL            = var.lastfm_api_url
    POWERTOOLS_SERVICE_NAME   = "sendsongs"
  }
  environment = merge(
    local.plain_environment,
    { for name, parameter in local.ssm_parameter_names : "${name}${local.ssm_parameter_suffix}" => parameter },
  )

  all_tables = keys(local.tables)

  # The four functions. `tables`: what each may read and write; `sends_to`: queues it puts
  # messages on; `consumes`: the queue that triggers it.
  functions = {
    http = {
      handler     = "sendsongs.aws.handlers.http_handler"
      description = "Webhooks, Spotify sign-up pages, data deletion and health, through one ASGI app"
      memory      = 512
      timeout     = 29 # API Gateway waits at most 30 s for an integration
      tables      = local.all_tables
      sends_to    = ["inbox"]
      consumes    = null
    }
    inbox = {
      handler     = "sendsongs.aws.handlers.inbox_handler"
      description = "Incoming chat events from the FIFO inbox queue, each person's in order"
      memory      = 512
      timeout     = 30
      tables      = local.all_tables
      sends_to    = []
      consumes    = "inbox"
    }
    sweep = {
      handler     = "sendsongs.aws.handlers.sweep_handler"
      description = "Every minute: claims due recipient checks onto the check queue, drains the outbox"
      memory      = 256
      timeout     = 55 # finishes before the next minute's run
      tables      = ["people", "shares", "checks", "inbox", "outbox", "pauses"]
      # the inbox queue too: re-queues stored events whose enqueue was lost
      sends_to = ["check", "inbox"]
      consumes = null
    }
    check = {
      handler     = "sendsongs.aws.handlers.check_handler"
      description = "Recipient checks from the check queue: read play history, settle, notify"
      memory      = 512
      timeout     = 60
      tables      = ["people", "shares", "checks", "outbox", "secrets", "pauses"]
      sends_to    = []
      consumes    = "check"
    }
  }

  routes = [
    "GET /webhook",
    "POST /webhook",
    "POST /telegram/webhook",
    "GET /spotify/login",
    "GET /spotify/callback",
    "POST /messenger/data-deletion",
    "GET /messenger/data-deletion",
    "GET /healthz",
  ]
}
