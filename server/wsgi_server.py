"""Running the app on gunicorn from the ``zaicun serve`` command."""
from gunicorn.app.base import BaseApplication


class ZaicunServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # one shared socket in $HOME would make two servers on a machine collide
            self.cfg.set("control_socket_disable", True)

    def load(self):
        import gc

        from . import create_app
        app = create_app()
        # Everything built so far (the app, its routes, schemas and mappers) lives as long as
        # the worker: moved out of the collector's sight, a full collection no longer walks
        # it on every few thousand requests (a pause every request behind it would wait for).
        gc.collect()
        gc.freeze()
        return app


def run(host: str, port: int, workers: int) -> None:
    """Serve on host:port with ``workers`` processes until stopped."""
    ZaicunServer({"bind": f"{host}:{port}", "workers": max(1, workers), "accesslog": "-",
                  "timeout": 60, "graceful_timeout": 10, "worker_class": "sync"}).run()
