"""``/api/v1/tasks``: a small to-do list per session, stored in the database.

Every route needs the session token (``Authorization: Bearer <token>``). A session sees and
changes its own tasks only; another session's task answers 404, as if it did not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.dependencies import CurrentSessionDep, DbDep
from app.errors import ApiError, ErrorBody
from app.models import Task, TaskCreate, TaskRead, TaskUpdate
from app.routers.sessions import UNAUTHORIZED
from app.sessions import SessionRecord
from app.timestamps import utcnow

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], responses=UNAUTHORIZED)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No task with this id in this session"}
}
# The deepest page a list can ask for.
MAX_OFFSET = 1_000_000


async def _get_task(db: AsyncSession, session: SessionRecord, task_id: uuid.UUID) -> Task:
    task = await db.get(Task, task_id)
    if task is None or task.session_id != session.id:
        raise ApiError(status.HTTP_404_NOT_FOUND, f"Task {task_id} not found")
    return task


@router.get("", summary="List this session's tasks, oldest first")
async def list_tasks(
    db: DbDep,
    session: CurrentSessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[TaskRead]:
    statement = (
        select(Task)
        .where(col(Task.session_id) == session.id)
        .order_by(col(Task.created_at), col(Task.id))
        .offset(offset)
        .limit(limit)
    )
    tasks = await db.exec(statement)
    return [TaskRead.model_validate(task) for task in tasks]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a task")
async def create_task(payload: TaskCreate, db: DbDep, session: CurrentSessionDep) -> TaskRead:
    task = Task.model_validate(payload, update={"session_id": session.id})
    db.add(task)
    await db.commit()
    return TaskRead.model_validate(task)


@router.get("/{task_id}", responses=NOT_FOUND, summary="Get a task")
async def get_task(task_id: uuid.UUID, db: DbDep, session: CurrentSessionDep) -> TaskRead:
    return TaskRead.model_validate(await _get_task(db, session, task_id))


@router.patch("/{task_id}", responses=NOT_FOUND, summary="Change some fields of a task")
async def update_task(
    task_id: uuid.UUID, payload: TaskUpdate, db: DbDep, session: CurrentSessionDep
) -> TaskRead:
    task = await _get_task(db, session, task_id)
    task.sqlmodel_update(payload.changes())
    task.updated_at = utcnow()
    db.add(task)
    await db.commit()
    return TaskRead.model_validate(task)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
    summary="Delete a task",
)
async def delete_task(task_id: uuid.UUID, db: DbDep, session: CurrentSessionDep) -> Response:
    task = await _get_task(db, session, task_id)
    await db.delete(task)
    await db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
