# What the operator pastes into the Facebook, Telegram and Spotify app settings.

output "public_url" {
  description = "SENDSONGS_PUBLIC_URL the functions run with."
  value       = local.public_url
}

output "messenger_webhook_url" {
  description = "Facebook app > Messenger > Webhooks: Callback URL."
  value       = "${local.public_url}/webhook"
}

output "telegram_webhook_url" {
  description = "URL for Telegram's setWebhook."
  value       = "${local.public_url}/telegram/webhook"
}

output "spotify_redirect_uri" {
  description = "Spotify app > Settings: Redirect URI (must match exactly)."
  value       = "${local.public_url}/spotify/callback"
}

output "signup_url" {
  description = "Public sign-up link: connects Spotify and shows a one-time registration code."
  value       = "${local.public_url}/spotify/login"
}

output "data_deletion_callback_url" {
  description = "Facebook app > Settings > Advanced: Data Deletion Request Callback URL."
  value       = "${local.public_url}/messenger/data-deletion"
}

output "ssm_parameters" {
  description = "Secret name => SSM parameter to fill with aws ssm put-parameter --overwrite."
  value       = local.ssm_parameter_names
}

output "kms_key_arn" {
  description = "Key the SSM parameters are encrypted with (--key-id of put-parameter)."
  value       = aws_kms_key.main.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms publish to."
  value       = aws_sns_topic.alarms.arn
}
