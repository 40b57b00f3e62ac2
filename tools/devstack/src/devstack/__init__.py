"""The whole system on one machine: moto, the fake PSP, the four services' real handlers, a dashboard."""
