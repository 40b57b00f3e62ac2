"""Test helpers shared by every service's tests (never packaged into a Lambda zip)."""
