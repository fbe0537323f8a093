'''A mock org.freedesktop.systemd1 for certd's tests: ReloadUnit,
RestartUnit and ReloadOrRestartUnit return a job path and later emit
JobRemoved with a result chosen per unit, like the real manager.

Parameters (dbusmock -p JSON): "log": a file that gets one line per call,
"METHOD UNIT MODE"; "control": a directory where a file named after a unit
overrides its result.  Results: "done", "failed", ... or "hang" (no
JobRemoved at all, so the caller must time out) or "nosuch" (the call fails
with NoSuchUnit).  Without a control file the unit name's prefix decides:
ok* done, failed* failed, hang* hang, nosuch* nosuch, else done.
'''
import os

import dbus
from gi.repository import GLib

BUS_NAME = 'org.freedesktop.systemd1'
MAIN_OBJ = '/org/freedesktop/systemd1'
MAIN_IFACE = 'org.freedesktop.systemd1.Manager'
SYSTEM_BUS = True


def load(mock, parameters):
    mock.next_job_id = 1
    mock.certd_log = parameters.get('log')
    mock.control = parameters.get('control')
    mock.delay_ms = int(parameters.get('delay_ms', 30))
    mock.AddProperties(MAIN_IFACE, {'Version': 'v252-certd-mock'})


def _result(mock, unit):
    if mock.control:
        path = os.path.join(mock.control, unit)
        if os.path.exists(path):
            with open(path, encoding='ascii') as f:
                return f.read().strip()
    for prefix in ('ok', 'failed', 'hang', 'nosuch'):
        if unit.startswith(prefix):
            return 'done' if prefix == 'ok' else prefix
    return 'done'


def _job(mock, method, unit, mode):
    unit = str(unit)
    if mock.certd_log:
        with open(mock.certd_log, 'a', encoding='ascii') as f:
            f.write(f'{method} {unit} {mode}\n')
    result = _result(mock, unit)
    if result == 'nosuch':
        raise dbus.exceptions.DBusException(
            f'Unit {unit} not found.',
            name='org.freedesktop.systemd1.NoSuchUnit')
    job_id = mock.next_job_id
    mock.next_job_id += 1
    job_path = f'{MAIN_OBJ}/job/{job_id}'

    def removed():
        mock.EmitSignal(MAIN_IFACE, 'JobRemoved', 'uoss',
                        [dbus.UInt32(job_id), dbus.ObjectPath(job_path),
                         unit, result])
        return False

    mock.EmitSignal(MAIN_IFACE, 'JobNew', 'uos',
                    [dbus.UInt32(job_id), dbus.ObjectPath(job_path), unit])
    if result != 'hang':
        GLib.timeout_add(mock.delay_ms, removed)
    return job_path


@dbus.service.method(MAIN_IFACE, in_signature='', out_signature='')
def Subscribe(self):
    pass


@dbus.service.method(MAIN_IFACE, in_signature='ss', out_signature='o')
def ReloadUnit(self, unit, mode):
    return _job(self, 'ReloadUnit', unit, mode)


@dbus.service.method(MAIN_IFACE, in_signature='ss', out_signature='o')
def RestartUnit(self, unit, mode):
    return _job(self, 'RestartUnit', unit, mode)


@dbus.service.method(MAIN_IFACE, in_signature='ss', out_signature='o')
def ReloadOrRestartUnit(self, unit, mode):
    return _job(self, 'ReloadOrRestartUnit', unit, mode)
