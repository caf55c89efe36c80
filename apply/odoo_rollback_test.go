package apply

import (
	"strings"
	"testing"

	"github.com/launchplane/launchplane/internal/testfixture"
	"github.com/launchplane/launchplane/providers/fake"
	"github.com/launchplane/launchplane/state"
)

const odooShop = `apiVersion: launchplane.dev/v1
kind: Product
metadata: {name: shop}
spec:
  driver: odoo
  image: ghcr.io/acme/shop
  port: 8069
  health: {path: /web/health}
  odoo:
    database: shop
    modules: [sale]
`

func odooProd(image string) string {
	return testfixture.TargetYAML("prod", image, "shop.example.com") + "  gates:\n    backup: {required: true, maxAge: 24h}\n"
}

// Health fails after the module update of a gated odoo deployment ran:
// apply asks the driver before redeploying the previous image, and the
// gate's backup is restored first, in the world and in the record.
func TestRunOdooRollbackRestoresBeforeOldImage(t *testing.T) {
	fx := newFixture(t)
	fx.Write("shop.yaml", odooShop)
	fx.Write("prod.yaml", odooProd(testfixture.OldImg))
	fx.mustApply(fx.Load(), nil)
	fx.Write("prod.yaml", odooProd(testfixture.NewImg))
	fx.SetWorld(func(w *fake.World) { w.Unhealthy = []string{"shop/prod"}; w.Log = nil })
	res, err := fx.apply(fx.Load(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Failed, ",") != "shop/prod" {
		t.Fatalf("failed %v", res.Failed)
	}
	var log []string
	for _, l := range fx.WorldState().Log {
		if strings.HasPrefix(l, "restore ") || strings.HasPrefix(l, "deploy shop/prod") || strings.HasPrefix(l, "job shop/prod odoo") {
			log = append(log, strings.Fields(l)[0]+" "+strings.Fields(l)[len(strings.Fields(l))-1])
		}
	}
	want := []string{"deploy " + testfixture.NewImg, "job --stop-after-init", "restore " + lastField(fx, "backup "), "deploy " + testfixture.OldImg}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("world log:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	var actions []string
	for _, c := range fx.Record("shop/prod", res.Records["shop/prod"]).Changes {
		actions = append(actions, c.Address+" "+c.Action+" "+string(c.Outcome))
	}
	got := strings.Join(actions, "\n")
	if !strings.Contains(got, "shop/prod/backup restore done\nshop/prod/app rollback done") {
		t.Errorf("record changes:\n%s\nwant the restore right before the rollback", got)
	}
	if ts := fx.Target("shop/prod"); ts.Image != testfixture.OldImg || ts.Status != state.StatusFailed {
		t.Errorf("prod after the rollback: %s %s", ts.Image, ts.Status)
	}
}

// lastField is the last word of the first world log line starting with prefix.
func lastField(fx *fixture, prefix string) string {
	for _, l := range fx.WorldState().Log {
		if strings.HasPrefix(l, prefix) {
			f := strings.Fields(l)
			return f[len(f)-1]
		}
	}
	return "(no " + prefix + "in the log)"
}
