"""Admins: moderators, roles, sites, API tokens; everyone: the audit log, passwords."""
