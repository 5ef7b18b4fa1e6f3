"""``/api/v1/tasks``: a small to-do list stored in the database."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.dependencies import SessionDep
from app.models import Task, TaskCreate, TaskRead, TaskUpdate, utcnow

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No task with this id"}}


async def _get_task(db: AsyncSession, task_id: uuid.UUID) -> Task:
    task = await db.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Task {task_id} not found")
    return task


@router.get("", summary="List tasks, oldest first")
async def list_tasks(
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TaskRead]:
    statement = (
        select(Task).order_by(col(Task.created_at), col(Task.id)).offset(offset).limit(limit)
    )
    tasks = await db.exec(statement)
    return [TaskRead.model_validate(task) for task in tasks]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a task")
async def create_task(payload: TaskCreate, db: SessionDep) -> TaskRead:
    task = Task.model_validate(payload)
    db.add(task)
    await db.commit()
    return TaskRead.model_validate(task)


@router.get("/{task_id}", responses=NOT_FOUND, summary="Get a task")
async def get_task(task_id: uuid.UUID, db: SessionDep) -> TaskRead:
    return TaskRead.model_validate(await _get_task(db, task_id))


@router.patch("/{task_id}", responses=NOT_FOUND, summary="Change some fields of a task")
async def update_task(task_id: uuid.UUID, payload: TaskUpdate, db: SessionDep) -> TaskRead:
    task = await _get_task(db, task_id)
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
async def delete_task(task_id: uuid.UUID, db: SessionDep) -> Response:
    task = await _get_task(db, task_id)
    await db.delete(task)
    await db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
