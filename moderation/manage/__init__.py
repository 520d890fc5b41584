"""Moderators acting on people (bans, handles), threads and sites."""
