package dokploy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/launchplane/providers"
	"github.com/launchplane/launchplane/providers/dokploy/internal/dotenv"
	"github.com/launchplane/launchplane/redact"
)

// errNotQueued marks a deploy call Dokploy refused: nothing was queued.
var errNotQueued = errors.New("deploy not queued")

// descriptionPrefix starts the description of Launchplane's deployments;
// the full idempotency key follows it.
const descriptionPrefix = "launchplane idempotency-key="

// deployment is a row of deployment.all / deployment.allByCompose.
type deployment struct {
	DeploymentID string  `json:"deploymentId"`
	Title        string  `json:"title"`
	Description  *string `json:"description"`
	Status       *string `json:"status"`
	ErrorMessage *string `json:"errorMessage"`
	CreatedAt    string  `json:"createdAt"`
}

// Observe reports the service of ref. Env holds the non-secret values
// only: the keys listed in LAUNCHPLANE_SECRET_KEYS (written at deploy) and
// any secret-shaped key are reported in SecretKeys, never with a value.
// IdempotencyKey comes from the newest finished (done) deployment, when
// Launchplane made it.
func (p *Provider) Observe(ctx context.Context, ref providers.AppRef) (providers.AppStatus, error) {
	st, err := p.observe(ctx, ref)
	return st, p.wrap("observe", ref.Target, err)
}

func (p *Provider) observe(ctx context.Context, ref providers.AppRef) (providers.AppStatus, error) {
	if err := p.ready(ctx); err != nil {
		return providers.AppStatus{}, err
	}
	svc, err := p.find(ctx, ref)
	if err != nil || svc == nil {
		return providers.AppStatus{}, err
	}
	env := dotenv.Parse(svc.env())
	st := providers.AppStatus{Exists: true, ID: svc.id(), Image: deref(svc.DockerImage), Env: map[string]string{}}
	if p.kind.name == "compose" {
		st.Image = env[ImageVar]
	}
	secret := map[string]bool{}
	for _, k := range strings.Split(env[SecretKeysVar], ",") {
		if k = strings.TrimSpace(k); k != "" {
			secret[k] = true
		}
	}
	for k, v := range env {
		switch {
		case k == SecretKeysVar || k == ImageVar:
		case secret[k]:
			st.SecretKeys = append(st.SecretKeys, k)
		default:
			if _, shaped := redact.SecretSegment(k); shaped {
				st.SecretKeys = append(st.SecretKeys, k)
				continue
			}
			st.Env[k] = v
		}
	}
	sort.Strings(st.SecretKeys)
	rows, err := p.deployments(ctx, svc.id())
	if err != nil {
		return providers.AppStatus{}, err
	}
	for _, r := range rows { // newest first
		if deref(r.Status) == "done" {
			if key, ok := strings.CutPrefix(deref(r.Description), descriptionPrefix); ok {
				st.IdempotencyKey = strings.TrimSpace(key)
			}
			break
		}
	}
	return st, nil
}

func (p *Provider) deployments(ctx context.Context, id string) ([]deployment, error) {
	var rows []deployment
	err := p.get(ctx, p.kind.deployments, url.Values{p.kind.idKey: {id}}, &rows)
	return rows, err
}

// Deploy finds or creates the service, saves image and env, checks that
// Dokploy kept every env key, starts a deployment titled uniquely and
// waits for that deployment's row to finish.
func (p *Provider) Deploy(ctx context.Context, app providers.App) (string, providers.DeployFacts, error) {
	for _, k := range app.SecretKeys {
		p.red.Add(app.Env[k])
	}
	ev := &providers.DeployFacts{ServiceType: p.kind.name}
	id, err := p.deploy(ctx, app, ev)
	return id, *ev, p.wrap("deploy", app.Target, err)
}

func (p *Provider) deploy(ctx context.Context, app providers.App, ev *providers.DeployFacts) (string, error) {
	if err := p.ready(ctx); err != nil {
		return "", err
	}
	if app.Image == "" {
		return "", errors.New("no image to deploy")
	}
	want, err := p.envOf(app)
	if err != nil {
		return "", err
	}
	if err := noReferences(want); err != nil {
		return "", err
	}
	text, err := dotenv.Encode(want)
	if err != nil {
		return "", err
	}
	name := app.Name
	if name == "" {
		name = providers.ObjectName(app.Target)
	}
	svc, err := p.find(ctx, app.AppRef)
	if err != nil {
		return "", err
	}
	ev.Created = providers.Bool(svc == nil)
	if svc == nil {
		if svc, err = p.create(ctx, name, app.Target); err != nil {
			return "", err
		}
	}
	id := svc.id()
	ev.ServiceID = id
	if err := p.adoptable(svc); err != nil {
		return id, err
	}
	// From here on the service changes: a failure puts back what it held
	// (unless Launchplane just created it), so that Dokploy and the state
	// never silently disagree.
	prev := *svc
	restore := func(err error) error {
		if *ev.Created {
			return err
		}
		return p.restore(ctx, &prev, ev, err)
	}
	if err := p.saveEnv(ctx, svc, app.Image, text); err != nil {
		return id, restore(err)
	}
	if err := p.verify(ctx, id, app.Image, want); err != nil {
		return id, restore(err)
	}
	base := app.Title
	if base == "" {
		base = "launchplane deploy"
	}
	short := app.IdempotencyKey
	if len(short) > 12 {
		short = short[:12]
	}
	if short == "" {
		short = "nokey"
	}
	title := fmt.Sprintf("%s %s-%s", base, short, nonce())
	ev.DeploymentTitle = title
	row, err := p.run(ctx, id, title, descriptionPrefix+app.IdempotencyKey)
	if row != nil {
		ev.DeploymentID = row.DeploymentID
		ev.DeploymentStatus = deref(row.Status)
	}
	if err != nil {
		if row != nil && (deref(row.Status) == "error" || deref(row.Status) == "cancelled") || errors.Is(err, errNotQueued) {
			return id, restore(err)
		}
		// Still queued or running: Dokploy may yet deploy it.
		return id, fmt.Errorf("%w; %q holds the new image and env while its deployment has not finished: the next apply compares them", err, svc.Name)
	}
	return id, nil
}

// adoptable refuses a compose service whose file comes from git: Dokploy
// renames each of its deployment rows to the commit message once done
// (deployCompose, packages/server/src/services/compose.ts), so a deploy
// could never find its own row.
func (p *Provider) adoptable(svc *service) error {
	if p.kind.name != "compose" {
		return nil
	}
	if svc.SourceType != "raw" {
		return fmt.Errorf("compose service %q takes its file from %s: Dokploy renames the deployments of such a service to the commit message, so Launchplane cannot follow them; use a raw compose service (its file in Dokploy) or another name",
			svc.Name, svc.SourceType)
	}
	if !strings.Contains(deref(svc.ComposeFile), ImageVar) {
		return fmt.Errorf("the compose file of %q does not use ${%s}: the image Launchplane deploys would not reach it", svc.Name, ImageVar)
	}
	return nil
}

// saveEnv writes image and env text to the service. For an application,
// saveEnvironment also writes buildArgs, buildSecrets and createEnvFile
// (routers/application.ts): the service's own values go back unchanged.
func (p *Provider) saveEnv(ctx context.Context, svc *service, image, text string) error {
	if p.kind.name == "compose" {
		return p.post(ctx, "compose.saveEnvironment", map[string]any{"composeId": svc.id(), "env": text}, nil)
	}
	if err := p.saveImage(ctx, svc.id(), image); err != nil {
		return err
	}
	createEnvFile := false
	if svc.CreateEnvFile != nil {
		createEnvFile = *svc.CreateEnvFile
	}
	return p.post(ctx, "application.saveEnvironment", map[string]any{"applicationId": svc.id(), "env": text,
		"buildArgs": svc.BuildArgs, "buildSecrets": svc.BuildSecrets, "createEnvFile": createEnvFile}, nil)
}

// restore puts back the image and env prev held after a deploy failed
// with cause; the error says whether Dokploy holds the old or the new.
func (p *Provider) restore(ctx context.Context, prev *service, ev *providers.DeployFacts, cause error) error {
	image := deref(prev.DockerImage)
	err := p.saveEnv(ctx, prev, image, prev.env())
	if err != nil {
		ev.Restored = providers.Bool(false)
		return fmt.Errorf("%w; could not restore the previous image and env of %q (%v): it holds the new image while the state keeps the old one, fix it in Dokploy or apply again",
			cause, prev.Name, p.red.Error(err))
	}
	ev.Restored = providers.Bool(true)
	return fmt.Errorf("%w; restored the previous image and env of %q", cause, prev.Name)
}

// noReferences refuses env values with ${{…}}: Dokploy expands
// ${{project.X}}, ${{environment.X}} and ${{X}} at deploy, throws on an
// unknown name (prepareEnvironmentVariables in
// packages/server/src/utils/docker/utils.ts) and has no escape.
func noReferences(env map[string]string) error {
	var bad []string
	for k, v := range env {
		if strings.Contains(v, "${{") {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("env %s hold ${{…}}, which Dokploy expands at deploy (and fails on unknown names); it has no escape for it: change these values", strings.Join(bad, ", "))
}

// envOf is the environment Launchplane saves for app: its env, the names
// of its secret keys and, for compose, the image.
func (p *Provider) envOf(app providers.App) (map[string]string, error) {
	env := make(map[string]string, len(app.Env)+2)
	for k, v := range app.Env {
		if k == SecretKeysVar || k == ImageVar {
			return nil, fmt.Errorf("env key %s is reserved for Launchplane", k)
		}
		env[k] = v
	}
	if len(app.SecretKeys) > 0 {
		keys := append([]string(nil), app.SecretKeys...)
		sort.Strings(keys)
		env[SecretKeysVar] = strings.Join(keys, ",")
	}
	if p.kind.name == "compose" {
		env[ImageVar] = app.Image
	}
	return env, nil
}

// saveImage points the application at image (docker source), with the
// configured registry credentials or none.
func (p *Provider) saveImage(ctx context.Context, id, image string) error {
	var img any = image
	if image == "" { // a service that had none (restore): dockerImage is nullable
		img = nil
	}
	body := map[string]any{"applicationId": id, "dockerImage": img, "username": nil, "password": nil, "registryUrl": nil}
	if r := p.c.Registry; r != nil {
		pw, err := p.cfg.Secret(r.Password)
		if err != nil {
			return fmt.Errorf("cannot read the registry password (registry.password, %s): %w", r.Password, err)
		}
		p.red.Add(pw)
		body["username"], body["password"] = r.Username, pw
		if r.URL != "" {
			body["registryUrl"] = r.URL
		}
	}
	return p.post(ctx, "application.saveDockerProvider", body, nil)
}

// verify reads the service back and checks, by key, that Dokploy kept
// the image and every env entry. Errors name keys, never values.
func (p *Provider) verify(ctx context.Context, id, image string, want map[string]string) error {
	svc, err := p.one(ctx, id)
	if err != nil {
		return err
	}
	if p.kind.name == "application" && deref(svc.DockerImage) != image {
		return fmt.Errorf("dokploy did not keep the image of %q: it holds %q", svc.Name, deref(svc.DockerImage))
	}
	got := dotenv.Parse(svc.env())
	var lost []string
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			lost = append(lost, k)
		}
	}
	if len(lost) > 0 {
		sort.Strings(lost)
		return fmt.Errorf("dokploy did not persist env key(s) %s of %q after %s", strings.Join(lost, ", "), svc.Name, p.kind.saveEnv)
	}
	return nil
}

// run starts a deployment of service id titled title and waits for it.
func (p *Provider) run(ctx context.Context, id, title, description string) (*deployment, error) {
	if err := p.post(ctx, p.kind.deploy, map[string]any{p.kind.idKey: id, "title": title, "description": description}, nil); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotQueued, err)
	}
	return p.await(ctx, id, title)
}

// await polls the deployments of service id for the row titled title
// (Dokploy's deploy returns no id) until it is done. error and cancelled
// fail with the tail of its log; any other status, the empty one
// included, keeps waiting until the provider's timeout.
func (p *Provider) await(ctx context.Context, id, title string) (*deployment, error) {
	deadline := time.Now().Add(p.timeout)
	var row *deployment
	for {
		rows, err := p.deployments(ctx, id)
		if err != nil {
			return row, err
		}
		for i := range rows {
			if rows[i].Title == title {
				row = &rows[i]
				break
			}
		}
		if row != nil {
			switch status := deref(row.Status); status {
			case "done":
				return row, nil
			case "error", "cancelled":
				return row, p.failed(ctx, row)
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			if row == nil {
				return nil, fmt.Errorf("no deployment titled %q appeared after %s: check Dokploy's deployment queue", title, compactDuration(p.timeout))
			}
			return row, fmt.Errorf("deployment %q has status %q after %s: not done", title, deref(row.Status), compactDuration(p.timeout))
		}
		t := time.NewTimer(min(p.poll, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return row, fmt.Errorf("waiting for deployment %q: %w", title, ctx.Err())
		case <-t.C:
		}
	}
}

// failed is the error of a deployment that ended in error or cancelled.
func (p *Provider) failed(ctx context.Context, row *deployment) error {
	msg := fmt.Sprintf("deployment %q ended with status %s", row.Title, deref(row.Status))
	if em := strings.TrimSpace(deref(row.ErrorMessage)); em != "" {
		msg += ": " + p.red.String(em)
	}
	log, err := p.logs(ctx, row.DeploymentID, 20)
	switch {
	case err != nil:
		msg += fmt.Sprintf(" (log unavailable: %v)", p.red.Error(err))
	case strings.TrimSpace(log) != "":
		msg += ": log: " + logTail(log, 5, 600)
	}
	return errors.New(msg)
}

// compactDuration prints a duration without trailing zero units: 10m,
// 1h30m, 50ms.
func compactDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Destroy deletes the service; a missing one (stale id, no service of that
// name) is not an error. A compose service's volumes are kept.
func (p *Provider) Destroy(ctx context.Context, ref providers.AppRef) error {
	return p.wrap("destroy", ref.Target, p.destroy(ctx, ref))
}

func (p *Provider) destroy(ctx context.Context, ref providers.AppRef) error {
	if err := p.ready(ctx); err != nil {
		return err
	}
	svc, err := p.find(ctx, ref)
	if err != nil || svc == nil {
		return err
	}
	body := map[string]any{p.kind.idKey: svc.id()}
	if p.kind.name == "compose" {
		body["deleteVolumes"] = false
	}
	err = p.post(ctx, p.kind.remove, body, nil)
	if errors.Is(err, providers.ErrNotFound) {
		return nil
	}
	return err
}
