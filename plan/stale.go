package plan

import "errors"

// ErrStale is wrapped when a saved plan no longer matches the state
// repository or the config.
var ErrStale = errors.New("stale plan")
