"""Run the Pulumi program without the CLI: under the SDK's mock runtime."""
