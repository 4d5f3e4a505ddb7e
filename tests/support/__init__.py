"""Helpers shared by the test folders: fake transports, simulator clients, checkers."""
