"""The locust load suite (``locust -f loadtests`` in a checkout, ``streamspec load`` installed). Locust
loads the files of this folder itself (each with the folder on ``sys.path``), not as a package; the
package exists so the files install under ``streamspec.loadtests``."""
