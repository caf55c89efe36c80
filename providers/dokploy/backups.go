package dokploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
)

// backupRow is a backup configuration, as the database's (or compose
// service's) one answers it.
type backupRow struct {
	BackupID      string         `json:"backupId"`
	Prefix        string         `json:"prefix"`
	DestinationID string         `json:"destinationId"`
	Database      string         `json:"database"`
	DatabaseType  string         `json:"databaseType"`
	BackupType    string         `json:"backupType"`
	ServiceName   *string        `json:"serviceName"`
	Metadata      map[string]any `json:"metadata"`
}

// backupFile is an entry of backup.listBackupFiles (rclone lsjson).
type backupFile struct {
	Path   string            `json:"Path"`
	Size   int64             `json:"Size"`
	IsDir  bool              `json:"IsDir"`
	Hashes map[string]string `json:"Hashes"`
}

// manualBackup is the synchronous run endpoint of each kind of backup.
var manualBackup = map[string]string{
	"postgres": "backup.manualBackupPostgres",
	"mysql":    "backup.manualBackupMySql",
	"mariadb":  "backup.manualBackupMariadb",
	"mongo":    "backup.manualBackupMongo",
	"compose":  "backup.manualBackupCompose",
}

// backupSource is what a backup is taken of.
type backupSource struct {
	backupType string // database or compose
	idKey      string // postgresId… or composeId
	id         string
	appName    string // folder Dokploy writes under
	rows       []backupRow
}

// TakeBackup dumps database through a Dokploy backup configuration of the
// configured destination: on the database service backup.databaseId, or,
// for compose services without one, on service backup.serviceName of the
// target's compose service. The configuration (disabled, never firing,
// prefix <prefix>/<object name>/<database>) is created on first use; the
// manual run waits for the dump; the new file of the destination is the
// backup. Dokploy documents no restore API, so this adapter is no
// providers.Restorer.
func (p *Provider) TakeBackup(ctx context.Context, target, database string) (providers.Backup, error) {
	b, err := p.takeBackup(ctx, target, database)
	return b, p.wrap("backup", target, err)
}

func (p *Provider) takeBackup(ctx context.Context, target, database string) (providers.Backup, error) {
	var out providers.Backup
	if err := p.ready(ctx); err != nil {
		return out, err
	}
	bc := p.c.Backup
	if bc == nil {
		return out, errors.New("backups need backup.destinationId (and backup.databaseId) in the provider config")
	}
	if database == "" {
		return out, errors.New("no database to back up")
	}
	src, err := p.backupSource(ctx, target)
	if err != nil {
		return out, err
	}
	prefix := bc.Prefix + "/" + providers.ObjectName(target) + "/" + database
	row, err := p.backupConfig(ctx, target, src, prefix, database)
	if err != nil {
		return out, err
	}
	dir := src.appName
	if src.backupType == "compose" {
		dir += "_" + bc.ServiceName
	}
	dirs := []string{dir + "/" + prefix + "/", prefix + "/"} // the layout of Dokploy v0.2x and of older versions
	before := map[string]bool{}
	for _, d := range dirs {
		files, err := p.backupFiles(ctx, d)
		if err != nil {
			return out, err
		}
		for _, f := range files {
			before[f.Path] = true
		}
	}
	kind := bc.DatabaseType
	if src.backupType == "compose" {
		kind = "compose"
	}
	start := time.Now()
	if err := p.postLong(ctx, manualBackup[kind], map[string]any{"backupId": row.BackupID}, nil); err != nil {
		return out, err
	}
	took := time.Since(start)
	var fresh []backupFile
	for _, d := range dirs {
		files, err := p.backupFiles(ctx, d)
		if err != nil {
			return out, err
		}
		for _, f := range files {
			if !f.IsDir && !before[f.Path] {
				fresh = append(fresh, f)
			}
		}
		if len(fresh) > 0 {
			break
		}
	}
	if len(fresh) == 0 {
		return out, fmt.Errorf("backup %s ran but no new file appeared under %s in destination %s", row.BackupID, dirs[0], bc.DestinationID)
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].Path > fresh[j].Path }) // timestamped names: newest first
	f := fresh[0]
	out = providers.Backup{ID: f.Path, Location: "dokploy-destination://" + bc.DestinationID + "/" + strings.TrimLeft(f.Path, "/"),
		Size: f.Size, Taken: start.UTC(), Duration: took, Checksum: NoChecksum}
	if md5 := f.Hashes["MD5"]; md5 != "" { // a Dokploy that lists hashes
		out.Checksum = "md5:" + strings.ToLower(md5)
	}
	return out, nil
}

// backupSource finds what target's backups are taken of.
func (p *Provider) backupSource(ctx context.Context, target string) (*backupSource, error) {
	bc := p.c.Backup
	if bc.DatabaseID == "" {
		if p.kind.name != "compose" || bc.ServiceName == "" {
			return nil, errors.New("backups need backup.databaseId (or, with serviceType compose, backup.serviceName) in the provider config")
		}
		svc, err := p.find(ctx, providers.AppRef{Target: target, Name: providers.ObjectName(target)})
		if err != nil {
			return nil, err
		}
		if svc == nil {
			return nil, fmt.Errorf("no compose service named %q in environment %s: deploy it before taking backups", providers.ObjectName(target), p.c.EnvironmentID)
		}
		return &backupSource{backupType: "compose", idKey: "composeId", id: svc.id(), appName: svc.AppName, rows: svc.Backups}, nil
	}
	var db struct {
		AppName string      `json:"appName"`
		Backups []backupRow `json:"backups"`
	}
	idKey := bc.DatabaseType + "Id"
	if err := p.get(ctx, bc.DatabaseType+".one", url.Values{idKey: {bc.DatabaseID}}, &db); err != nil {
		return nil, err
	}
	return &backupSource{backupType: "database", idKey: idKey, id: bc.DatabaseID, appName: db.AppName, rows: db.Backups}, nil
}

// backupConfig finds or creates the backup configuration of database
// with prefix on the configured destination.
func (p *Provider) backupConfig(ctx context.Context, target string, src *backupSource, prefix, database string) (*backupRow, error) {
	bc := p.c.Backup
	match := func(rows []backupRow) *backupRow {
		for i := range rows {
			r := &rows[i]
			if r.DestinationID == bc.DestinationID && r.Database == database && strings.Trim(r.Prefix, "/") == prefix &&
				(src.backupType != "compose" || deref(r.ServiceName) == bc.ServiceName) {
				return r
			}
		}
		return nil
	}
	var metadata map[string]any
	if src.backupType == "compose" {
		var err error
		if metadata, err = p.composeMetadata(); err != nil {
			return nil, err
		}
	}
	if r := match(src.rows); r != nil {
		if metadata == nil || sameMetadata(r.Metadata, metadata) {
			return r, nil
		}
		// A configuration without (or with other) metadata has no dump
		// command: backup.update needs every key of apiUpdateBackup
		// (packages/server/src/db/schema/backups.ts).
		keep := any(nil)
		if bc.KeepLatestCount > 0 {
			keep = bc.KeepLatestCount
		}
		body := map[string]any{"backupId": r.BackupID, "schedule": neverCron, "enabled": false, "prefix": prefix,
			"destinationId": bc.DestinationID, "database": database, "keepLatestCount": keep, "serviceName": bc.ServiceName,
			"metadata": metadata, "databaseType": bc.DatabaseType}
		if err := p.post(ctx, "backup.update", body, nil); err != nil {
			return nil, err
		}
		r.Metadata = metadata
		return r, nil
	}
	body := map[string]any{"schedule": neverCron, "prefix": prefix, "destinationId": bc.DestinationID, "database": database,
		"databaseType": bc.DatabaseType, "enabled": false, "backupType": src.backupType, src.idKey: src.id}
	if src.backupType == "compose" {
		body["serviceName"] = bc.ServiceName
		body["metadata"] = metadata
	}
	if bc.KeepLatestCount > 0 {
		body["keepLatestCount"] = bc.KeepLatestCount
	}
	if err := p.post(ctx, "backup.create", body, nil); err != nil {
		return nil, err
	}
	// backup.create answers nothing: read the configurations again.
	again, err := p.backupSource(ctx, target)
	if err != nil {
		return nil, err
	}
	if r := match(again.rows); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("backup.create: the backup of %s (prefix %s) was created but is not listed", database, prefix)
}

// composeMetadata is backup.metadata of a compose backup: Dokploy builds
// the dump command of a compose service only from
// metadata.<databaseType> (generateBackupCommand in
// packages/server/src/utils/backups/utils.ts); without it
// manualBackupCompose fails.
func (p *Provider) composeMetadata() (map[string]any, error) {
	bc := p.c.Backup
	password := func() (string, error) {
		if bc.DatabasePassword == nil {
			return "", fmt.Errorf("compose backups of %s need backup.databasePassword in the provider config: Dokploy builds the dump command of a compose service from it", bc.DatabaseType)
		}
		pw, err := p.cfg.Secret(*bc.DatabasePassword)
		if err != nil {
			return "", fmt.Errorf("cannot read the database password (backup.databasePassword, %s): %w", *bc.DatabasePassword, err)
		}
		p.red.Add(pw)
		return pw, nil
	}
	needUser := func() error {
		if bc.DatabaseUser == "" {
			return errors.New("compose backups need backup.databaseUser in the provider config: Dokploy builds the dump command of a compose service from it")
		}
		return nil
	}
	switch bc.DatabaseType {
	case "postgres":
		if err := needUser(); err != nil {
			return nil, err
		}
		return map[string]any{"postgres": map[string]any{"databaseUser": bc.DatabaseUser}}, nil
	case "mariadb", "mongo":
		if err := needUser(); err != nil {
			return nil, err
		}
		pw, err := password()
		if err != nil {
			return nil, err
		}
		return map[string]any{bc.DatabaseType: map[string]any{"databaseUser": bc.DatabaseUser, "databasePassword": pw}}, nil
	case "mysql":
		pw, err := password()
		if err != nil {
			return nil, err
		}
		return map[string]any{"mysql": map[string]any{"databaseRootPassword": pw}}, nil
	}
	return nil, fmt.Errorf("compose backups of %s are not supported", bc.DatabaseType)
}

// sameMetadata compares backup metadata as JSON values.
func sameMetadata(a, b map[string]any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func (p *Provider) backupFiles(ctx context.Context, dir string) ([]backupFile, error) {
	var files []backupFile
	err := p.get(ctx, "backup.listBackupFiles", url.Values{"destinationId": {p.c.Backup.DestinationID}, "search": {dir}}, &files)
	return files, err
}

// NoChecksum is the checksum of a Dokploy backup: listBackupFiles runs
// rclone lsjson without --hash (apps/dokploy/server/api/routers/backup.ts),
// so Dokploy tells none.
const NoChecksum = "none: dokploy lists backup files without hashes"
