"""Message queues between the runtime's parts (SQS on AWS): adapters of InboxNotifier
and CheckQueue. Local runtimes need none: their worker is woken directly."""
