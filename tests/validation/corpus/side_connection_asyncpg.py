# expect: side-connection-in-revision@18 side-connection-in-revision@21 side-connection-in-revision@24
"""asyncpg connections opened inside upgrade(): in a coroutine run by asyncio.run, through an
alias, through connect imported by name, and a pool"""
import asyncio

from alembic import op
import asyncpg
import asyncpg as pg
from asyncpg import connect as open_connection

revision = "side_conn_asyncpg"
down_revision = None


def upgrade():

    async def work():
        first = await asyncpg.connect(database="farms")
        await first.execute("UPDATE audit SET seen = true WHERE id = 1")
        await first.close()
        second = await pg.create_pool(database="farms")
        await second.close()

    third = open_connection(database="farms")
    asyncio.run(work())
    third.close()


def downgrade():
    op.execute("SELECT 1")
