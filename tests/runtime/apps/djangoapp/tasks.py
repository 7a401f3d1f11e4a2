from djangoapp.celery_app import app


class TaskFailure(RuntimeError):
    pass


@app.task(name="djangoapp.fail")
def fail(tag: str) -> None:
    raise TaskFailure(f"task failed {tag}")
