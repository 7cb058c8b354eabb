# The queues of local.queues, each with a dead-letter queue behind it.

resource "aws_sqs_queue" "dead_letter" {
  for_each = local.queues

  name                      = each.value.dlq_name
  fifo_queue                = each.value.fifo
  message_retention_seconds = each.value.dlq_retention_hours * 3600
  kms_master_key_id         = aws_kms_key.main.arn
}

resource "aws_sqs_queue" "main" {
  for_each = local.queues

  name       = each.value.name
  fifo_queue = each.value.fifo
  # The webhook sets the group (sender) and de-duplication id (message id) itself.
  content_based_deduplication = each.value.fifo ? false : null
  deduplication_scope         = each.value.fifo ? "messageGroup" : null
  fifo_throughput_limit       = each.value.fifo ? "perMessageGroupId" : null
  visibility_timeout_seconds  = each.value.visibility_timeout
  message_retention_seconds   = 4 * 24 * 3600
  receive_wait_time_seconds   = 20
  kms_master_key_id           = aws_kms_key.main.arn

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter[each.key].arn
    maxReceiveCount     = each.value.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dead_letter" {
  for_each = local.queues

  queue_url = aws_sqs_queue.dead_letter[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.main[each.key].arn]
  })
}
