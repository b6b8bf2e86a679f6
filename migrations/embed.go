// Package migrations embeds the schema migrations, one folder per SQL dialect.
// Both folders must describe the same schema; tests run against both engines.
package migrations

import "embed"

//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
