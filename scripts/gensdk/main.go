// Command gensdk writes a Pulumi package SDK for one language from a package schema, with the code generators
// of github.com/pulumi/pulumi/pkg/v3 (the module the CLI is built from, same version). `pulumi package gen-sdk`
// asks the language host for this, and the Python host this repository ships does not generate packages.
//
// Usage: gensdk <python|nodejs|go> <schema.json> <output directory>
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "sentry-stacks gensdk"

// selfContained loads no other package: the sentrystacks schema refers to none.
type selfContained struct{}

var errExternal = errors.New("the schema refers to another package; only self-contained schemas are supported")

func (selfContained) LoadPackage(string, *semver.Version) (*schema.Package, error) {
	return nil, errExternal
}

func (selfContained) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errExternal
}

func (selfContained) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errExternal
}

func (selfContained) LoadPackageReferenceV2(context.Context, *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, errExternal
}

func generate(language string, pkg *schema.Package) (map[string][]byte, error) {
	loader := selfContained{}
	switch language {
	case "python":
		return python.GeneratePackage(tool, pkg, nil, loader)
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, nil, nil, false, loader)
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	}
	return nil, fmt.Errorf("language %q: allowed are python, nodejs, go", language)
}

func run(language, schemaPath, out string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, selfContained{}, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return fmt.Errorf("%s: %v", schemaPath, diags)
	}
	files, err := generate(language, pkg)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("gensdk: %d %s files in %s\n", len(names), language, out)
	return nil
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gensdk <python|nodejs|go> <schema.json> <output directory>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
}
