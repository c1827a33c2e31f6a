"""Service managers: systemd user units, launchd agents, Windows logon tasks.

The platform seam picks one (``Platform.service_manager(home)``); :mod:`.actions` runs an
install plan or an uninstall and records each change in the profile's journal;
:mod:`.status` renders the service line of ``status``.
"""

from lifecycle.services.base import InstallOutcome, InstallPlan, Removal, ServiceManager, ServiceStatus

__all__ = ["InstallOutcome", "InstallPlan", "Removal", "ServiceManager", "ServiceStatus"]
