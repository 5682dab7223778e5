// Package notify tells a chat or an event pipeline when the fleet changes: drift appearing or
// clearing, sync going OutOfSync or Synced, health degrading or recovering, a cluster becoming
// unreachable or answering again. `fleetdeck watch` feeds it the engine's models.
//
// # From models to messages
//
// fleet.DiffStates finds the transitions between the states known so far and each new model.
// A Debouncer holds them for the debounce window (default 30s): a change that lasts the window
// is announced once; one undone within it (bad and back) is only logged; one that flaps is
// collapsed into one summary counting the changes, and the aspect is then summarised at most
// once per HoldFactor windows while it keeps flapping. The aspects of one instance that settle
// together make one message. When watching starts, the problems that already exist are sent as
// one digest, not one message each; with a state file (--state), a restarted watcher or a cron
// run announces only what changed since the last run.
//
// # Delivery
//
// A Dispatcher posts every message to every target, each from its own goroutine and bounded
// queue, so a slow webhook never holds up the watch or the other targets. 5xx answers, 408,
// network errors and timeouts are retried with exponential backoff and jitter; a 429 waits for
// its Retry-After; after the last attempt, or on another 4xx, the message is dropped with a
// logged error. URLs are masked wherever they are logged (MaskURL): a webhook's path is its
// secret.
//
// # Formats
//
// A target's format is slack when it says so or its host is hooks.slack.com, json otherwise.
// slack posts an incoming-webhook payload (Slack, and Slack-compatible hooks such as
// Mattermost's): text for the notification and blocks with the app, the cluster, what changed,
// git against live for drifting images, and a fleetdeck command to investigate. json posts the
// Message document itself, schema version 1:
//
//	{
//	  "schemaVersion": 1,
//	  "type": "change",                  // or "digest"
//	  "time": "2026-11-25T12:00:30Z",
//	  "app": "payments-api",             // absent for a cluster's change
//	  "cluster": "prod-us",
//	  "namespace": "payments",
//	  "severity": "warning",             // ok|info|warning|error|critical, after the change
//	  "problem": true,                   // some change is a state going bad
//	  "summary": "payments-api on prod-us: drift appeared: git 1.4.0, live hotfix-1",
//	  "command": "fleetdeck status --app payments-api --cluster prod-us -o wide",
//	  "changes": [{
//	    "kind": "drift-appeared",        // drift-appeared|drift-cleared|out-of-sync|synced|
//	                                     // degraded|recovered|unreachable|reachable
//	    "problem": true,
//	    "from": "none", "to": "1.4.0→hotfix-1",
//	    "reason": "",                    // sync reason, health message, cluster error
//	    "images": [{"workload": "Deployment/payments/payments-api", "container": "payments-api",
//	                "gitImage": "…:1.4.0", "liveImage": "…:hotfix-1", "gitTag": "1.4.0",
//	                "liveTag": "hotfix-1", "drift": true, "latest": false}],
//	    "fields": [{"object": "Deployment/payments/payments-api", "field": "replicas",
//	                "git": "2", "live": "3"}],
//	    "flaps": 4,                      // only when the aspect flapped within the window
//	    "since": "2026-11-25T12:00:00Z"
//	  }]
//	}
//
// A digest has "type": "digest", "instances" and "clusters" (what is watched) and "problems":
// [{"app", "cluster", "namespace", "severity", "sync", "health", "drift", "text"}], instances
// worst first after the clusters that do not answer (those have no "app"). Fields are only
// added within a schema version.
package notify
