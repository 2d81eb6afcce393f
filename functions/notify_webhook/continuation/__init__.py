"""Work that outlives one invocation: the authenticated message that says where to resume, the delivery
schedule, and the queues the message travels on (the work queue) or is parked on (the failure queue)."""
