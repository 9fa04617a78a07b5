"""Fairway's HTTP endpoints, served with Django REST framework."""
